import * as kplus from 'cdk8s-plus-28';

/**
 * A probe of the service container. It takes the same options as cdk8s-plus's `Probe`, as plain
 * data, so that an app on any cdk8s-plus major can pass them: a `Probe` object of another major
 * than the library's (cdk8s-plus-28) is a different class to TypeScript.
 *
 * @example
 * readiness: ServiceProbe.fromHttpGet('/ready', { port: 3000 }),
 */
export class ServiceProbe {
  /** An HTTP GET on `path`; the container is healthy when it answers 200 to 399. */
  public static fromHttpGet(path: string, options: kplus.HttpGetProbeOptions = {}): ServiceProbe {
    return new ServiceProbe(() => kplus.Probe.fromHttpGet(path, { ...options }));
  }

  /** A TCP connection to the container's port; healthy when it is accepted. */
  public static fromTcpSocket(options: kplus.TcpSocketProbeOptions = {}): ServiceProbe {
    return new ServiceProbe(() => kplus.Probe.fromTcpSocket({ ...options }));
  }

  /** `command` run in the container; healthy when it exits 0. */
  public static fromCommand(command: string[], options: kplus.CommandProbeOptions = {}): ServiceProbe {
    return new ServiceProbe(() => kplus.Probe.fromCommand([...command], { ...options }));
  }

  private constructor(private readonly build: () => kplus.Probe) {}

  /**
   * The cdk8s-plus-28 probe the library builds the container with.
   *
   * @internal
   */
  public _toProbe(): kplus.Probe {
    return this.build();
  }
}
