import * as kplus from 'cdk8s-plus-28';
import { checkArgument, checkOptions, COMMAND, DURATION, integer, oneOf, PropTypes, STRING } from './prop-types';
import { invalidProp } from './validation';

// The options of cdk8s-plus's probes, by name: an option cdk8s-plus does not know is refused, not ignored.
const PROBE_OPTIONS: PropTypes<kplus.CommandProbeOptions> = {
  failureThreshold: integer(1, 2147483647),
  initialDelaySeconds: DURATION,
  periodSeconds: DURATION,
  successThreshold: integer(1, 2147483647),
  timeoutSeconds: DURATION,
};
const HTTP_GET_OPTIONS: PropTypes<kplus.HttpGetProbeOptions> = {
  ...PROBE_OPTIONS, port: integer(1, 65535, 'a TCP port'), scheme: oneOf('ConnectionScheme', ['HTTP', 'HTTPS']), host: STRING,
};
const TCP_SOCKET_OPTIONS: PropTypes<kplus.TcpSocketProbeOptions> = { ...PROBE_OPTIONS, port: integer(1, 65535, 'a TCP port'), host: STRING };

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
    checkArgument('ServiceProbe.fromHttpGet()', 'path', path, STRING);
    checkOptions('ServiceProbe.fromHttpGet()', options, HTTP_GET_OPTIONS);
    const call = (port: string) => `ServiceProbe.fromHttpGet(${JSON.stringify(path)}${port})`;
    return new ServiceProbe(() => kplus.Probe.fromHttpGet(path, { ...options }), call(''), options.port === undefined ? call(', { port: 3000 }') : undefined);
  }

  /** A TCP connection to the container's port; healthy when it is accepted. Without `options.port`, the service's `port`. */
  public static fromTcpSocket(options: kplus.TcpSocketProbeOptions = {}): ServiceProbe {
    checkOptions('ServiceProbe.fromTcpSocket()', options, TCP_SOCKET_OPTIONS);
    return new ServiceProbe(() => kplus.Probe.fromTcpSocket({ ...options }), 'ServiceProbe.fromTcpSocket()',
      options.port === undefined ? 'ServiceProbe.fromTcpSocket({ port: 3000 })' : undefined);
  }

  /** `command` run in the container; healthy when it exits 0. */
  public static fromCommand(command: string[], options: kplus.CommandProbeOptions = {}): ServiceProbe {
    checkArgument('ServiceProbe.fromCommand()', 'command', command, COMMAND);
    checkOptions('ServiceProbe.fromCommand()', options, PROBE_OPTIONS);
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
