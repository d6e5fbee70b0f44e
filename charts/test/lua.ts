/**
 * Runs an Argo CD health script the way Argo CD does: the resource as the global `obj`, the script's
 * returned table read back as { status, message }, with only the libraries Argo CD opens for health checks
 * (base, table, package, and os, of which Argo CD keeps a safe part): a script that calls string.find runs
 * in a full Lua and fails in Argo CD. fengari is Lua 5.3 (Argo CD's gopher-lua is 5.1): the scripts keep to
 * what both share.
 */
import { type LuaState, lauxlib, lua, lualib, to_luastring } from "fengari";

export interface Health {
  status: string | null;
  message: string | null;
}

function push(L: LuaState, value: unknown): void {
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === "boolean") lua.lua_pushboolean(L, value);
  else if (typeof value === "number")
    Number.isInteger(value) ? lua.lua_pushinteger(L, value) : lua.lua_pushnumber(L, value);
  else if (typeof value === "string") lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_newtable(L);
    value.forEach((item, i) => {
      push(L, item);
      lua.lua_seti(L, -2, i + 1);
    });
  } else if (typeof value === "object") {
    lua.lua_newtable(L);
    for (const [key, item] of Object.entries(value)) {
      push(L, item);
      lua.lua_setfield(L, -2, to_luastring(key));
    }
  } else throw new Error(`cannot pass ${typeof value} to Lua`);
}

export function runHealthScript(script: string, obj: object): Health {
  const L = lauxlib.luaL_newstate();
  for (const [name, open] of [
    ["_G", lualib.luaopen_base],
    ["package", lualib.luaopen_package],
    ["table", lualib.luaopen_table],
    ["os", lualib.luaopen_os],
  ] as const) {
    lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
    lua.lua_pop(L, 1);
  }
  push(L, obj);
  lua.lua_setglobal(L, to_luastring("obj"));
  if (lauxlib.luaL_loadstring(L, to_luastring(script)) !== lua.LUA_OK)
    throw new Error(`the script does not compile: ${lua.lua_tojsstring(L, -1)}`);
  if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK)
    throw new Error(`the script failed: ${lua.lua_tojsstring(L, -1)}`);
  lua.lua_getfield(L, -1, to_luastring("status"));
  const status = lua.lua_tojsstring(L, -1);
  lua.lua_pop(L, 1);
  lua.lua_getfield(L, -1, to_luastring("message"));
  const message = lua.lua_tojsstring(L, -1);
  return { status, message };
}
