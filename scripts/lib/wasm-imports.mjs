// Lists the imports of a .wasm file by module and fails if any comes from module `env`
// (a native symbol the linker could not resolve; such a module cannot be instantiated).
// Usage: node wasm-imports.mjs path/to/file.wasm
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: wasm-imports.mjs <file.wasm>   (no release .wasm in pkg/? run scripts/build)');
  console.log('TIER-COUNT 0 1');
  process.exit(1);
}
const module = new WebAssembly.Module(readFileSync(file));
const byModule = new Map();
for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
  if (!byModule.has(from)) byModule.set(from, []);
  byModule.get(from).push(`${kind} ${name}`);
}
for (const [from, names] of byModule) console.log(`${from}: ${names.length} imports`);
const env = byModule.get('env') ?? [];
if (env.length > 0) {
  console.log(`FAIL: ${file} imports from module "env":`);
  for (const n of env) console.log(`  ${n}`);
  console.log('TIER-COUNT 0 1');
  process.exit(1);
}
console.log(`ok: no imports from "env" (${WebAssembly.Module.exports(module).length} exports)`);
console.log('TIER-COUNT 1 0');
