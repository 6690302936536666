import * as kplus from 'cdk8s-plus-28';
import { checkOptions, PERCENT_OR_ABSOLUTE, PropTypes, refuseOptions } from './prop-types';

// An option cdk8s-plus does not know is refused, not ignored.
const ROLLING_UPDATE_OPTIONS: PropTypes<kplus.DeploymentStrategyRollingUpdateOptions> = {
  maxSurge: PERCENT_OR_ABSOLUTE, maxUnavailable: PERCENT_OR_ABSOLUTE,
};

/**
 * How the service's Deployment replaces its pods. It takes the same options as cdk8s-plus's
 * `DeploymentStrategy`, as plain data, so that an app on any cdk8s-plus major can pass them: a
 * `DeploymentStrategy` object of another major than the library's (cdk8s-plus-28) is a different
 * class to TypeScript.
 *
 * @example
 * strategy: ServiceStrategy.rollingUpdate({ maxSurge: PercentOrAbsolute.absolute(2) }),
 */
export class ServiceStrategy {
  /**
   * Stops every pod before starting the new ones. With a migration, the service serves nothing
   * until it has succeeded; the construct warns (MS015).
   */
  public static recreate(): ServiceStrategy {
    // eslint-disable-next-line prefer-rest-params
    refuseOptions('ServiceStrategy.recreate()', arguments);
    return new ServiceStrategy(() => kplus.DeploymentStrategy.recreate());
  }

  /**
   * A rolling update. Set `maxUnavailable` to 0 (the construct's default does): new pods wait for
   * the migration, and a serving pod should never be taken down for one of them.
   */
  public static rollingUpdate(options: kplus.DeploymentStrategyRollingUpdateOptions = {}): ServiceStrategy {
    checkOptions('ServiceStrategy.rollingUpdate()', options, ROLLING_UPDATE_OPTIONS);
    return new ServiceStrategy(() => kplus.DeploymentStrategy.rollingUpdate({ ...options }));
  }

  private constructor(private readonly build: () => kplus.DeploymentStrategy) {}

  /**
   * The cdk8s-plus-28 strategy the library builds the Deployment with.
   *
   * @internal
   */
  public _toStrategy(): kplus.DeploymentStrategy {
    return this.build();
  }
}
