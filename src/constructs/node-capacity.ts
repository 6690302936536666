import { parseQuantity } from '../shared/quantity';

/**
 * Requests that no node can hold. A pod that asks for more CPU or memory than any node has stays
 * `Pending` (`Insufficient cpu`): a migration Job until its deadline fails the release, a gated
 * workload's new pods forever. The usual cause is a unit: `Cpu.units(250)` (250 CPUs) where
 * `Cpu.millis(250)` was meant, or `Size.gibibytes(512)` for `Size.mebibytes(512)`.
 *
 * The thresholds are what the largest nodes of ordinary node pools offer: 64 vCPUs and 256 GiB is a
 * 16xlarge general-purpose instance of the major clouds. Larger machines exist (memory-optimised
 * and bare-metal types); a workload that runs on them acknowledges the warning (MS107).
 */
export const MAX_NODE_CPUS = 64;

/** The memory, in GiB, above which a request is warned about: see `MAX_NODE_CPUS`. */
export const MAX_NODE_MEMORY_GIB = 256;

/**
 * What is wrong with a container's `resources` (pod-spec JSON): one sentence per request above
 * `MAX_NODE_CPUS` or `MAX_NODE_MEMORY_GIB`, with the fix. A limit counts when no request is given:
 * Kubernetes then requests the limit.
 */
export function oversizedRequests(resources: any): string[] {
  const problems: string[] = [];
  const requested = (kind: string) => resources?.requests?.[kind] ?? resources?.limits?.[kind];
  const cpuText = requested('cpu');
  const cpus = parseQuantity(cpuText);
  if (cpus !== undefined && cpus > MAX_NODE_CPUS) {
    const millis = Number.isInteger(cpus) && cpus <= 64000 ? ` If ${cpus} millicores were meant, write Cpu.millis(${cpus}) (cpu: "${cpus}m").` : '';
    problems.push(`requests cpu ${JSON.stringify(cpuText)}, which is ${cpus} CPUs: more than the ${MAX_NODE_CPUS} CPUs of the largest ordinary node, `
      + `so the pod would stay Pending (Insufficient cpu).${millis}`);
  }
  const memoryText = requested('memory');
  const bytes = parseQuantity(memoryText);
  const gib = bytes === undefined ? undefined : bytes / 2 ** 30;
  if (gib !== undefined && gib > MAX_NODE_MEMORY_GIB) {
    // cdk8s writes Size.gibibytes(512) as "524288Mi": the hint reads the number the user wrote.
    const mebi = Number.isInteger(gib) ? ` If ${gib} MiB were meant, write Size.mebibytes(${gib}) where it says Size.gibibytes(${gib}).` : '';
    problems.push(`requests memory ${JSON.stringify(memoryText)}, which is ${Math.round(gib)} GiB: more than the ${MAX_NODE_MEMORY_GIB} GiB `
      + `of the largest ordinary node, so the pod would stay Pending (Insufficient memory).${mebi}`);
  }
  return problems;
}
