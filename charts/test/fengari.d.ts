/** The part of fengari's API (a Lua 5.3 VM in JavaScript; the package ships no types) the tests use. */
declare module "fengari" {
  export type LuaState = { readonly __brand: "lua_State" };
  export function to_luastring(s: string): Uint8Array;
  export function to_jsstring(s: Uint8Array): string;
  export const lua: {
    LUA_OK: number;
    LUA_MULTRET: number;
    lua_newtable(L: LuaState): void;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array): void;
    lua_setfield(L: LuaState, index: number, key: Uint8Array): void;
    lua_seti(L: LuaState, index: number, i: number): void;
    lua_setglobal(L: LuaState, name: Uint8Array): void;
    lua_getfield(L: LuaState, index: number, key: Uint8Array): number;
    lua_tojsstring(L: LuaState, index: number): string | null;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pop(L: LuaState, n: number): void;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, s: Uint8Array): number;
    luaL_requiref(L: LuaState, name: Uint8Array, open: LuaOpen, global: number): void;
  };
  /** A library's opener (lua_CFunction). */
  export type LuaOpen = (L: LuaState) => number;
  export const lualib: {
    luaopen_base: LuaOpen;
    luaopen_package: LuaOpen;
    luaopen_table: LuaOpen;
    luaopen_os: LuaOpen;
  };
}
