// bench/nar.ts's probe: lists the regular files under a tree, then times one lstat + readFile
// per file and prints the microseconds per file. Run it under different permission flags.
const files: string[] = [];
const walk = (dir: string) => {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) walk(p);
    else if (e.isFile && e.name.endsWith(".py")) files.push(p);
  }
};
walk(Deno.args[0]!);
const t0 = performance.now();
for (const f of files) {
  Deno.lstatSync(f);
  Deno.readFileSync(f);
}
const us = (performance.now() - t0) * 1000 / files.length;
Deno.stdout.writeSync(new TextEncoder().encode(`${us}\n`));
