-- Argo CD health of a Darwin object (any kind), from its status as the operator writes it:
-- Healthy when the Ready condition is True and status.observedGeneration is the object's generation;
-- Suspended for a DarwinCluster the operator stopped (spec.suspend, or idle); Healthy with the condition's
-- message for an ArtifactBuild cancelled through spec.cancel and a DarwinJob stopped on request; Degraded with the condition's message when
-- Ready is False for a failure; Progressing otherwise.
-- Written for Lua 5.1 (Argo CD runs gopher-lua) with only the base and table libraries, as Argo CD opens them.
-- `reported` is set per kind by charts/generate.ts: false for kinds whose status nobody writes.
local reported = true
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }
if not reported then
  hs.status = "Healthy"
  hs.message = obj.kind .. " is a setting; nothing reports on it"
  return hs
end
if obj.status == nil then
  return hs
end

local ready = nil
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    end
  end
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to act on generation " .. tostring(generation)
  return hs
end

if obj.kind == "DarwinCluster" and obj.status.phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = (ready ~= nil and ready.message) or "The cluster is suspended"
  return hs
end

if ready == nil then
  return hs
end

local message = ready.message or ""
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message
  return hs
end

-- A build cancelled through spec.cancel ended as its spec asks and never runs again: nothing is on its way
-- and nothing needs repair, so it neither keeps the application Progressing nor marks it Degraded.
if obj.kind == "ArtifactBuild" and obj.status.phase == "Cancelled" then
  hs.status = "Healthy"
  hs.message = message
  return hs
end

-- A Ray job stopped on its user's request (the stop annotation, before or after Ray ran it) ended as asked:
-- like a cancelled build, it is Healthy with the condition's message.
if obj.kind == "DarwinJob" and (ready.reason == "Stopped" or ready.reason == "StopRequested") then
  hs.status = "Healthy"
  hs.message = message
  return hs
end

-- A failure needs someone to act; anything else is on its way. Argo CD runs health checks without Lua's
-- string library (only base, table and a safe os), so reasons are matched whole, not searched for words.
local failures = {}
for _, name in ipairs({
  "BuildFailed", "CleanupFailed", "ClusterNotFound", "ConfigError", "Conflict", "DeadlineExceeded",
  "EnvironmentNotFound", "Error", "Failed", "FeatureGroupNotFound", "Forbidden", "InternalError",
  "InvalidRule", "InvalidSpec", "MavenResolveFailed", "MlflowError", "ModelNotFound", "NoResult", "NotFound",
  "PackagesFailed", "PipInstallFailed", "ReconcileFailed", "ReplicaFailure", "RolloutFailed",
  "RuntimeNotFound", "SchemaConflict", "ServesOutsideNamespace", "TerminalError",
}) do
  failures[name] = true
end
local reason = ready.reason or ""
local failed = obj.status.phase == "Failed" or failures[reason] == true
if ready.status == "False" and failed then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
if message ~= "" then
  hs.message = message
else
  hs.message = reason
end
return hs
