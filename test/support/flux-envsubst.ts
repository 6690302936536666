/**
 * Flux's post-build variable substitution, as the kustomize-controller runs it on each object of a
 * Kustomization with `spec.postBuild.substitute` or `substituteFrom`: the object is written as YAML,
 * and the whole text goes through `envsubst.Eval` of github.com/drone/envsubst, unless the object is
 * labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` (fluxcd/pkg,
 * kustomize/kustomize_varsub.go). Flux's docs: https://fluxcd.io/flux/components/kustomize/kustomizations/#post-build-variable-substitution
 *
 * The rules modelled here, from drone/envsubst's scanner and parser:
 * - `${NAME}` is replaced with the variable's value, or with nothing when it is unset (Flux's
 *   default; with the `StrictPostBuildSubstitutions` feature gate an unset variable fails the build).
 * - `${NAME:-word}`, `${NAME:=word}` and `${NAME=word}`: the word when NAME is unset or empty.
 * - Any other `${` that does not parse (no name, no closing brace, an operator not modelled here)
 *   fails the whole Kustomization: "variable substitution failed: ...".
 * - `$$` is an escape: it becomes `$`, so `$${NAME}` leaves `${NAME}` in the object.
 * - `\\` becomes `\` and `\/` becomes `/`: the scanner's other escapes, applied to the text too.
 * - `$NAME` without braces is left as it is: only `${` starts a substitution.
 */
export function fluxSubstitute(text: string, vars: { [name: string]: string }): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '$' && next === '$') {
      out += '$';
      i += 2;
    } else if (c === '\\' && (next === '\\' || next === '/')) {
      out += next;
      i += 2;
    } else if (c === '$' && next === '{') {
      const end = text.indexOf('}', i + 2);
      const body = end < 0 ? undefined : text.slice(i + 2, end);
      const match = body === undefined ? null : /^([\p{L}\p{N}_-]+)(?:(:?[-=])(.*))?$/su.exec(body);
      if (match === null) {
        throw new Error(`variable substitution failed: bad substitution at ${JSON.stringify(text.slice(i, i + 40))}`);
      }
      const [, name, operator, word] = match;
      const value = vars[name];
      out += operator !== undefined && (value === undefined || (operator.startsWith(':') && value === '')) ? word : (value ?? '');
      i = end + 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** Whether Flux leaves `object` out of the substitution. */
export function substitutionDisabled(object: any): boolean {
  const key = 'kustomize.toolkit.fluxcd.io/substitute';
  return object?.metadata?.labels?.[key] === 'disabled' || object?.metadata?.annotations?.[key] === 'disabled';
}
