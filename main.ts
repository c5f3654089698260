/**
 * Pyralog's executable entry point (`deno task start`, the compiled binary).
 * @module
 */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
