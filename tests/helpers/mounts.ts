/**
 * Scratch file systems for the storage fault tests: a size-limited tmpfs (to fill the disk)
 * and a loop-mounted ext4 image (to cut power with `xfs_io -x -c shutdown`). Both need root,
 * as CI has; a failure to mount fails the test with the command's error instead of skipping
 * it, so a broken CI environment cannot hide a storage bug.
 *
 * Every mount is unmounted and every temporary directory removed in a `finally`.
 */

/** Runs a command to completion; throws with its output when it fails. */
export async function run(cmd: string, args: string[], what: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (err) {
    throw new Error(`${what}: cannot run "${cmd}" (${(err as Error).message})`, { cause: err });
  }
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${what}: "${cmd} ${args.join(" ")}" exited ${out.code}: ${text.trim()}`);
  }
  return text;
}

/**
 * Unmounts `dir`, retrying a busy mount a bounded number of times and detaching it lazily
 * (`umount -l`) as a last resort, so a failing test never leaves a mount behind.
 */
async function unmount(dir: string): Promise<void> {
  const ATTEMPTS = 5;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      await run("umount", [dir], `Cannot unmount "${dir}"`);
      return;
    } catch (err) {
      if (attempt === ATTEMPTS) {
        await run("umount", ["-l", dir], `Cannot detach "${dir}"`);
        throw err;
      }
      // A descriptor closed a moment ago can keep the mount busy briefly; back off and poll.
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

/**
 * Mounts a tmpfs with the given `-o` options (e.g. "size=256k") on a fresh directory, runs
 * `fn` on it, then unmounts it and removes the directory.
 * @throws {Error} naming the mount command's output when the mount fails (not root, say).
 */
export async function withTmpfs<T>(options: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-tmpfs-" });
  try {
    await run(
      "mount",
      ["-t", "tmpfs", "-o", options, "tmpfs", dir],
      `Cannot mount a tmpfs on "${dir}" (this test needs root, as CI runs it)`,
    );
    try {
      return await fn(dir);
    } finally {
      await unmount(dir);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A loop-mounted ext4 image: its mount point and a way to unmount and mount it again. */
export interface Ext4Mount {
  mountPoint: string;
  remount(): Promise<void>;
  unmount(): Promise<void>;
}

/**
 * Creates a `sizeMb` ext4 image in a fresh directory, loop-mounts it, runs `fn`, then
 * unmounts it (if still mounted) and removes the image and directories.
 * @throws {Error} naming the failing command when the image cannot be made or mounted.
 */
export async function withExt4Loop<T>(
  sizeMb: number,
  fn: (m: Ext4Mount) => Promise<T>,
): Promise<T> {
  const root = await Deno.makeTempDir({ prefix: "pyralog-ext4-" });
  const image = `${root}/fs.img`;
  const mountPoint = `${root}/mnt`;
  let mounted = false;
  const mount = async () => {
    await run(
      "mount",
      ["-o", "loop", image, mountPoint],
      `Cannot loop-mount "${image}" (this test needs root and loop devices, as CI has)`,
    );
    mounted = true;
  };
  const m: Ext4Mount = {
    mountPoint,
    remount: async () => {
      if (mounted) await m.unmount();
      await mount();
    },
    unmount: async () => {
      await unmount(mountPoint);
      mounted = false;
    },
  };
  try {
    await Deno.mkdir(mountPoint);
    await run("truncate", ["-s", `${sizeMb}M`, image], `Cannot create "${image}"`);
    await run("mkfs.ext4", ["-q", "-m", "0", image], `Cannot format "${image}"`);
    await mount();
    return await fn(m);
  } finally {
    try {
      if (mounted) await m.unmount();
    } finally {
      // Removed even when the unmount failed: it was detached lazily (see `unmount`).
      await Deno.remove(root, { recursive: true });
    }
  }
}
