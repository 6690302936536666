/**
 * The memory the library's in-pod program needs: it is a Node.js program, and Node alone takes
 * about 40 MiB before it reads a line. Under a lower limit the container is OOM-killed at start,
 * and no pod it gates ever starts. The constructs refuse a lower limit; `lint` reports one.
 */
export const MIN_PROGRAM_MEMORY_LIMIT_MIB = 64;
