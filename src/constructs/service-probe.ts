import * as kplus from 'cdk8s-plus-28';
import { OptionNames, refuseUnknownOptions } from './options';
import { invalidProp } from './validation';

// The options of cdk8s-plus's probes, by name: an option cdk8s-plus does not know is refused, not ignored.
const PROBE_OPTIONS: OptionNames<kplus.CommandProbeOptions> = {
  failureThreshold: true, initialDelaySeconds: true, periodSeconds: true, successThreshold: true, timeoutSeconds: true,
};
const HTTP_GET_OPTIONS: OptionNames<kplus.HttpGetProbeOptions> = { ...PROBE_OPTIONS, port: true, scheme: true, host: true };
const TCP_SOCKET_OPTIONS: OptionNames<kplus.TcpSocketProbeOptions> = { ...PROBE_OPTIONS, port: true, host: true };

/**
 * A probe of the service container. It takes the same options as cdk8s-plus's `Probe`, as plain
 * data, so that an app on any cdk8s-plus major can pass them: a `Probe` object of another major
 * than the library's (cdk8s-plus-28) is a different class to TypeScript.
 *
 * @example
 * readiness: ServiceProbe.fromHttpGet('/ready', { port: 3000 }),
 */
export class ServiceProbe {
  /**
   * An HTTP GET on `path`; the container is healthy when it answers 200 to 399. Without
   * `options.port`, it probes the service's `port`.
   */
  public static fromHttpGet(path: string, options: kplus.HttpGetProbeOptions = {}): ServiceProbe {
    refuseUnknownOptions('ServiceProbe.fromHttpGet()', options, HTTP_GET_OPTIONS);
    const call = (port: string) => `ServiceProbe.fromHttpGet(${JSON.stringify(path)}${port})`;
    return new ServiceProbe(() => kplus.Probe.fromHttpGet(path, { ...options }), call(''), options.port === undefined ? call(', { port: 3000 }') : undefined);
  }

  /** A TCP connection to the container's port; healthy when it is accepted. Without `options.port`, the service's `port`. */
  public static fromTcpSocket(options: kplus.TcpSocketProbeOptions = {}): ServiceProbe {
    refuseUnknownOptions('ServiceProbe.fromTcpSocket()', options, TCP_SOCKET_OPTIONS);
    return new ServiceProbe(() => kplus.Probe.fromTcpSocket({ ...options }), 'ServiceProbe.fromTcpSocket()',
      options.port === undefined ? 'ServiceProbe.fromTcpSocket({ port: 3000 })' : undefined);
  }

  /** `command` run in the container; healthy when it exits 0. */
  public static fromCommand(command: string[], options: kplus.CommandProbeOptions = {}): ServiceProbe {
    refuseUnknownOptions('ServiceProbe.fromCommand()', options, PROBE_OPTIONS);
    return new ServiceProbe(() => kplus.Probe.fromCommand([...command], { ...options }), `ServiceProbe.fromCommand(${JSON.stringify(command)})`);
  }

  private constructor(
    private readonly build: () => kplus.Probe,
    /** How the user wrote the probe, for error messages. */
    private readonly description: string,
    /**
     * The probe written with a port, when it takes its port from the container, which has none
     * without the service's `port`.
     */
    private readonly withPort?: string,
  ) {}

  /**
   * Throws when the probe would take its port from a container that has none: cdk8s-plus then
   * probes port 80, where the service does not listen, and the pods never become ready (or are
   * restarted by the liveness probe).
   *
   * @internal
   */
  public _validatePort(owner: string, prop: string, containerPort: number | undefined): void {
    if (this.withPort !== undefined && containerPort === undefined) {
      throw invalidProp(owner, prop, this.description,
        'the probe names no port and the service has none (no `port` prop), so cdk8s-plus would probe port 80, where nothing listens, '
        + 'and the probe would fail on every pod. Give the service its port (port: 3000), or the probe one '
        + `(${this.withPort}).`);
    }
  }

  /**
   * The cdk8s-plus-28 probe the library builds the container with.
   *
   * @internal
   */
  public _toProbe(): kplus.Probe {
    return this.build();
  }
}
