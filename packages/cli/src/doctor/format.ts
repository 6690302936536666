import { DoctorReport, duration, JobReport, ReleaseReport } from './diagnose';

/* Text for a terminal: one block per release, short lines, no stack traces. JSON for programs. */

function jobLine(label: string, job: JobReport): string {
  const state = `${job.state}${job.reason ? ` (${job.reason})` : ''}`;
  const clock = `${duration(job.ageSeconds)}${job.deadlineSeconds !== undefined ? ` of its ${duration(job.deadlineSeconds)} deadline` : ', no deadline'}`;
  const pod = job.pod ? `; pod ${job.pod.name}: ${job.pod.state}` : '; no pod';
  return `  ${label} ${job.name}: ${state}, ${clock}${pod}`;
}

function block(r: ReleaseReport): string {
  const lines: string[] = [];
  lines.push(`${r.verdict.padEnd(7)} ${r.namespace}/${r.job}${r.tag ? `  (release ${r.tag})` : ''}${r.stuck ? '  waiting too long' : ''}`);
  lines.push(`  why:  ${r.reason}`);
  lines.push(`  next: ${r.next}`);
  if (r.migration) {
    lines.push(jobLine('job', r.migration));
    if (r.migration.message && r.migration.state === 'Failed') lines.push(`        ${r.migration.message}`);
    if (r.migration.event && r.migration.state !== 'Complete') lines.push(`        event: ${r.migration.event}`);
    if (r.migration.log && r.migration.log.length > 0 && r.verdict !== 'OK') {
      lines.push(`  log of ${r.migration.logContainer} (last ${r.migration.log.length} lines):`);
      lines.push(...r.migration.log.map((l) => `    | ${l}`));
    } else if (r.migration.logNote && r.verdict !== 'OK') {
      lines.push(`  log of ${r.migration.logContainer}: ${r.migration.logNote}`);
    }
  } else {
    lines.push(`  job ${r.namespace}/${r.job}: does not exist`);
  }
  if (r.ledger) {
    lines.push(`  ledger ${r.ledger.name}: ${!r.ledger.exists ? 'does not exist' : r.ledger.succeededAt ? `records success at ${r.ledger.succeededAt}` : 'no entry for this Job'}`);
  }
  for (const w of r.workloads) {
    const held = w.heldPods.length > 0 ? `; ${w.heldPods.length} pod${w.heldPods.length === 1 ? '' : 's'} held in Init (${w.heldPods.slice(0, 3).map((p) => `${p.name}: ${p.state}`).join(', ')}${w.heldPods.length > 3 ? ', …' : ''})` : '';
    const rollout = ['Job', 'CronJob', 'Pod'].includes(w.kind) ? 'gated' : `${w.updated}/${w.desired} updated, ${w.available} available`;
    lines.push(`  ${w.kind} ${w.name}: ${rollout}${w.stalled ? ', ProgressDeadlineExceeded' : ''}${held}`);
    for (const x of w.waiters) {
      const access = x.access.every((a) => a.allowed === undefined) ? 'access not checked'
        : x.access.every((a) => a.allowed) ? `may ${x.access.map((a) => a.need.split(' in ')[0]).join(', ')}`
          : `may NOT ${x.access.filter((a) => a.allowed === false).map((a) => a.need).join(', ')}`;
      lines.push(`    waiter ${x.container} (${x.kind}) waits for Job ${x.namespace}/${x.job}: ${x.jobExists ? 'exists' : 'missing'}; ServiceAccount ${x.serviceAccount} ${access}; token ${x.tokenMounted ? 'mounted' : 'NOT mounted'}`);
      if (x.lastLog) lines.push(`      last log (${x.pod}): ${x.lastLog}`);
      else if (x.logNote) lines.push(`      log (${x.pod}): ${x.logNote}`);
    }
  }
  if (r.postDeploy) {
    lines.push(jobLine('post-deploy', r.postDeploy));
    if (r.postDeploy.waitingFor && r.postDeploy.state !== 'Complete') lines.push(`        waits for: ${r.postDeploy.waitingFor}`);
  }
  for (const c of r.concurrent) lines.push(`  also active: Job ${c.job}${c.tag ? ` (release ${c.tag})` : ''}`);
  for (const n of r.notes) lines.push(`  ${n.startsWith('also:') || n.startsWith('and:') ? n : `note: ${n}`}`);
  return lines.join('\n');
}

export function formatText(report: DoctorReport): string {
  const head = report.releases.length === 0
    ? `No migration found in namespace ${report.namespace}: no Job labelled app.kubernetes.io/component=migration, and no init container that waits for a Job.`
    : `Namespace ${report.namespace}: ${report.found} release${report.found === 1 ? '' : 's'}, showing ${report.releases.length}, newest first.`;
  return [head, ...report.notes.map((n) => `note: ${n}`), ...report.releases.map(block)].join('\n\n') + '\n';
}

export function formatJson(report: DoctorReport, version: string): string {
  return JSON.stringify({ tool: 'cdk8s-migrated-service doctor', version, ...report }, null, 2) + '\n';
}
