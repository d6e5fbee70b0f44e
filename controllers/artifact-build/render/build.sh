#!/bin/sh
# The ArtifactBuild container's script: see build-script.ts.
set -u
out=${DARWIN_TERMINATION_LOG:-/dev/termination-log}
work=${DARWIN_WORK_DIR:-/tmp}
log=$work/darwin-build.log
fail() {
  { printf 'failed: %s\n' "$1"; if [ -s "$log" ]; then tail -c 3000 "$log"; fi; } >"$out"
  printf 'failed: %s\n' "$1" >&2
  exit 1
}
lsremote() {
  if [ -n "${GIT_PASSWORD:-}" ]; then
    git -c credential.helper= -c 'credential.helper=!f() { echo "username=$GIT_USERNAME"; echo "password=$GIT_PASSWORD"; }; f' ls-remote "$@"
  else
    git ls-remote "$@"
  fi
}
mkdir -p "$HOME/.config/buildkit"
printf '%s' "${DARWIN_BUILDKITD_TOML:-}" >"$HOME/.config/buildkit/buildkitd.toml"

url=$DARWIN_GIT_URL
rev=$DARWIN_GIT_REVISION
if printf '%s' "$rev" | grep -Eq '^[0-9a-f]{40}$'; then
  refs=$(lsremote "$url" HEAD 2>&1) || fail "spec.source.git.url $url cannot be read: $(printf '%s' "$refs" | tr '\n' ' ')"
  commit=$rev
else
  refs=$(lsremote "$url" "$rev" "$rev^{}" 2>&1) || fail "spec.source.git.url $url cannot be read: $(printf '%s' "$refs" | tr '\n' ' ')"
  commit=$(printf '%s\n' "$refs" | awk -v r="$rev" '
    $2 == "refs/tags/" r "^{}" { p[1] = $1 } $2 == "refs/heads/" r { p[2] = $1 }
    $2 == "refs/tags/" r { p[3] = $1 } $2 == r { p[4] = $1 }
    END { for (i = 1; i <= 4; i++) if (p[i] != "") { print p[i]; exit } }')
  [ -n "$commit" ] || fail "spec.source.git.revision $rev is not a branch, tag or full commit of $url"
fi
echo "Resolved $rev of $url to $commit"

context="$url#$commit"
[ "$DARWIN_CONTEXT_DIR" = . ] || context="$context:$DARWIN_CONTEXT_DIR"
for arg do
  shift
  set -- "$@" --opt "build-arg:$arg"
done
[ -z "${GIT_PASSWORD:-}" ] || set -- "$@" --secret id=GIT_AUTH_TOKEN,env=GIT_PASSWORD
[ -z "${DARWIN_GIT_SSH_KEY:-}" ] || set -- "$@" --ssh "default=$DARWIN_GIT_SSH_KEY"
output="type=image,name=$DARWIN_OUTPUT_IMAGE,push=true"
[ -z "${DARWIN_PUSH_INSECURE:-}" ] || output="$output,registry.insecure=true"
{
  buildctl-daemonless.sh build --progress=plain --frontend=dockerfile.v0 \
    --opt "context=$context" --opt "filename=$DARWIN_DOCKERFILE" "$@" \
    --output "$output" --metadata-file "$work/darwin-metadata.json" 2>&1
  echo $? >"$work/darwin-build.code"
} | tee "$log"
[ "$(cat "$work/darwin-build.code")" = 0 ] || fail "buildctl build exited $(cat "$work/darwin-build.code")"
digest=$(sed -n 's/.*"containerimage\.digest": *"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' "$work/darwin-metadata.json" | head -n 1)
[ -n "$digest" ] || fail "buildctl wrote no containerimage.digest to its metadata file"
printf '{"commit":"%s","digest":"%s"}' "$commit" "$digest" >"$out"
echo "Pushed $DARWIN_OUTPUT_IMAGE@$digest built from $commit"
