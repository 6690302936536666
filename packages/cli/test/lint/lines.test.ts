import * as fs from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { isMap, isSeq, LineCounter, parseAllDocuments, parseDocument, stringify } from 'yaml';
import { FIXTURES } from './support';
import { indentFlowContinuations, parseManifests, yamlFilesUnder } from '../../src/lint/load';

// Lines are found by indentation where the YAML is block-style, and by `yaml`'s syntax tree
// otherwise. Both must give the line the tree gives for every field of every object.

/** The reference: the key's line (the last of duplicates), or the nearest present parent's. */
function treeLines(text: string): Array<(p: Array<string | number>) => number> {
  const lineCounter = new LineCounter();
  return (parseAllDocuments(text, { lineCounter, version: '1.1', uniqueKeys: false }) as any[]).map((doc) => (fieldPath: Array<string | number>) => {
    let current: any = doc.contents;
    let line = lineCounter.linePos(current.range[0]).line;
    for (const key of fieldPath) {
      let next: any;
      let at: any;
      if (isMap(current)) {
        const pair: any = [...current.items].reverse().find((item: any) => String(item.key?.value ?? item.key) === String(key));
        next = pair?.value;
        at = pair?.key?.range ?? next?.range;
      } else if (isSeq(current) && typeof key === 'number') {
        next = current.items[key];
        at = next?.range;
      }
      if (next === undefined || next === null) {
        break;
      }
      line = lineCounter.linePos(at[0]).line;
      current = next;
    }
    return line;
  });
}

/** Every path into a value, with a missing key under each mapping. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const paths: Array<Array<string | number>> = [prefix];
  if (Array.isArray(value)) {
    value.forEach((v, i) => paths.push(...pathsOf(v, [...prefix, i])));
    paths.push([...prefix, value.length]);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      paths.push(...pathsOf(v, [...prefix, k]));
    }
    paths.push([...prefix, 'no-such-field', 'below']);
  }
  return paths;
}

function expectSameLines(text: string): void {
  // The reference reads the text as it is, unless `yaml` refuses it (a flow sequence wrapped at column 0).
  const refused = parseAllDocuments(text, { version: '1.1', uniqueKeys: false }).some((d: any) => d.errors.length > 0);
  const reference = treeLines(refused ? indentFlowContinuations(text) : text);
  const objects = parseManifests(text, 'x.yaml');
  expect(objects.length).toBe(reference.length);
  objects.forEach((o, i) => {
    for (const p of pathsOf(o.raw)) {
      expect([p.join('.'), o.lineOf(p)]).toEqual([p.join('.'), reference[i](p)]);
    }
  });
}

test.each(yamlFilesUnder(FIXTURES).filter((f) => !f.includes(`${path.sep}bad${path.sep}`) && !f.endsWith('list.yaml') && !f.endsWith('kustomization.yaml')))('every field of %s is on the line the syntax tree says', (file) => {
  expectSameLines(fs.readFileSync(file, 'utf8'));
});

test('flow collections, compact sequences, quoted keys, block scalars, comments, anchors and merge keys', () => {
  expectSameLines(`# leading comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: "front"}
  annotations:
    "helm.sh/hook": pre-install
    'quoted''key': x
    plain key with spaces: y
spec:
  template:
    spec:
      initContainers:
      - name: wait
        image: x
        command:
        - sh
        - -c
        - |
          until kubectl get job x; do
            key: not a key
            sleep 2
          done
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      -   name: second
          args:

            # a comment between

            - a
            - b
      containers:
        - &c
          name: c
          image: y
        - <<: *c
          name: d
---
apiVersion: v1
kind: ConfigMap
metadata: {name: flow, namespace: x}
data:
  a: |-
    b: c
  d: e
`);
});

test('any block-style object: lines by indentation equal the tree lines', () => {
  // `yaml` reads plain `e0` or `e-0` as numbers in YAML 1.1 (Go's decoder and js-yaml read
  // strings), so the reference would be wrong on such keys: keep the keys it reads as strings.
  const key = fc.stringMatching(/^[a-z][a-z0-9./-]{0,8}$/).filter((k) => typeof parseDocument(k, { version: '1.1' }).toJS() === 'string');
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 6 }), fc.integer(), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 3 })),
  })).v;
  fc.assert(fc.property(fc.dictionary(key, value, { maxKeys: 4 }), fc.boolean(), (spec, indentSeq) => {
    const text = stringify({ apiVersion: 'v1', kind: 'X', spec }, { indentSeq });
    expectSameLines(text);
  }), { numRuns: 200, seed: Number(process.env.SEED ?? Date.now() % 2147483647), path: process.env.FC_PATH, endOnFailure: true });
});

test('only flow continuations are re-indented: block scalars and brackets inside plain scalars stay as written', () => {
  // GIVEN valid YAML with brackets in a block scalar (JSON, shell tests) and in plain scalars
  const valid = 'data:\n  config.json: |\n    {\n      "a": [\n        1\n    ]\n    }\n  script: |\n    if [ -z "$X" ]; then\n    fi\n'
    + 'args:\n  - echo 6[4\n  - [a, b]\nnext: x\n';
  // WHEN normalised THEN nothing changes
  expect(indentFlowContinuations(valid)).toBe(valid);
  // AND a flow sequence wrapped at column 0 is indented past its bracket, line count kept
  expect(indentFlowContinuations('a:\n  b: [one,\ntwo]\nc: d\n')).toBe('a:\n  b: [one,\n      two]\nc: d\n');
});
