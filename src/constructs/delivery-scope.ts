import { App } from 'cdk8s';
import { IConstruct } from 'constructs';
import { invalidProp } from './validation';

/** A delivery engine, as this file needs it (delivery.ts imports this file, not the other way round). */
export interface Engine {
  readonly engine: string;
}

/** The engine set with `Delivery.setDefault`, by the construct it was set on. */
const defaults = new WeakMap<IConstruct, Engine>();

/** Migrations that took the engine of their scope (or Flux) because they were given none. */
const tookTheDefault = new WeakSet<IConstruct>();

/** Where one migration's engine came from, for the message that refuses a mix. */
interface EngineChoice {
  readonly migration: IConstruct;
  readonly owner: string;
  readonly engine: string;
  readonly source: string;
}

const choicesByApp = new WeakMap<IConstruct, EngineChoice[]>();

/** Sets the engine of the migrations below `scope` that are given none (see `Delivery.setDefault`). */
export function setDefaultDelivery(scope: IConstruct, delivery: Engine, isDelivery: boolean): void {
  const owner = `Delivery.setDefault(${scope.node.path === '' ? 'the App' : `"${scope.node.path}"`})`;
  if (!isDelivery) {
    throw invalidProp(owner, 'delivery', delivery,
      'it must be a Delivery: Delivery.flux(), Delivery.argoCd(), Delivery.helm() or Delivery.kubectl().');
  }
  const existing = defaults.get(scope);
  if (existing !== undefined && existing.engine !== delivery.engine) {
    throw invalidProp(owner, 'delivery', delivery.engine,
      `the engine of this scope is already set to "${existing.engine}". One App is delivered by one engine: set it once.`);
  }
  const early = scope.node.findAll().find((c) => tookTheDefault.has(c));
  if (early !== undefined) {
    throw invalidProp(owner, 'delivery', delivery.engine,
      `the migration "${early.node.path}" was created before this call and was given the engine "${defaultDeliveryOf(early)?.engine ?? 'flux'}" `
      + 'already. Call Delivery.setDefault on the App or chart before creating the migrations below it.');
  }
  defaults.set(scope, delivery);
}

/** The engine set with `Delivery.setDefault` on `scope` or the nearest construct above it. */
export function defaultDeliveryOf(scope: IConstruct): Engine | undefined {
  for (const s of [...scope.node.scopes].reverse()) {
    const delivery = defaults.get(s);
    if (delivery !== undefined) {
      return delivery;
    }
  }
  return undefined;
}

/** Where the engine set for `scope` was set, for messages. */
function defaultSourceOf(scope: IConstruct): string | undefined {
  for (const s of [...scope.node.scopes].reverse()) {
    if (defaults.has(s)) {
      return `Delivery.setDefault(${s.node.path === '' ? 'the App' : `"${s.node.path}"`})`;
    }
  }
  return undefined;
}

/**
 * Records the engine of the migration `migration` (given, or taken from its scope), and refuses at
 * synth an App whose migrations are delivered by different engines: a migration that fell back to
 * Flux in an Argo CD App would be an ordinary Job that a prune may delete while it runs.
 */
export function recordEngine(migration: IConstruct, owner: string, delivery: Engine, given: boolean): void {
  if (!given) {
    tookTheDefault.add(migration);
  }
  const source = given ? 'its delivery prop' : defaultSourceOf(migration) ?? 'the default, as neither it nor Delivery.setDefault names one';
  const app = App.of(migration);
  const choices = choicesByApp.get(app) ?? [];
  choicesByApp.set(app, choices);
  choices.push({ migration, owner, engine: delivery.engine, source });
  migration.node.addValidation({
    validate: () => {
      const first = choices[0];
      if (first.engine === delivery.engine) {
        return [];
      }
      return [`${owner}: delivery "${delivery.engine}" (from ${source}) is invalid: ${first.owner} of the same App is delivered by `
        + `"${first.engine}" (from ${first.source}). One App is applied by one engine; mixed, a migration annotated for another `
        + 'engine runs as an ordinary object (an Argo CD or Flux prune may delete its Job while it runs) or as a hook nothing runs. '
        + 'Set the engine once for the whole App, before creating the migrations: Delivery.setDefault(app, Delivery.argoCd()), '
        + 'and drop the delivery props that disagree with it; or synthesize the migrations of each engine in an App of their own.'];
    },
  });
}
