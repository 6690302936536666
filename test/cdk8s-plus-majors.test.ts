import { Chart, Duration, Testing } from 'cdk8s';
import * as plus33 from 'cdk8s-plus-33';
import { MigratedService, MigrationTool, ServiceProbe, ServiceStrategy } from '../src';
import { named } from './support/manifests';

// This file is type-checked (npx projen typecheck): an app on cdk8s-plus-33 passes its own values.
describe('an app on cdk8s-plus-33', () => {
  test('passes its env, resources, pull policy, probe options and strategy options, and gets them in the YAML', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new MigratedService(chart, 'web', {
      imageTag: 'v1.2.3',
      image: 'registry.example.com/shop',
      migrationTool: MigrationTool.prisma(),
      env: { LOG_LEVEL: plus33.EnvValue.fromValue('info') },
      resources: { cpu: { request: plus33.Cpu.millis(250), limit: plus33.Cpu.millis(500) } },
      imagePullPolicy: plus33.ImagePullPolicy.ALWAYS,
      port: 3000,
      readiness: ServiceProbe.fromHttpGet('/ready', { port: 3000, scheme: plus33.ConnectionScheme.HTTP, periodSeconds: Duration.seconds(5) }),
      liveness: ServiceProbe.fromTcpSocket({ port: 3000 }),
      strategy: ServiceStrategy.rollingUpdate({
        maxSurge: plus33.PercentOrAbsolute.absolute(2),
        maxUnavailable: plus33.PercentOrAbsolute.absolute(0),
      }),
    });
    const deployment = named(Testing.synth(chart), 'Deployment', 'web');
    const service = deployment.spec.template.spec.containers[0];
    expect(service.env).toContainEqual({ name: 'LOG_LEVEL', value: 'info' });
    expect(service.resources).toEqual({ limits: { cpu: '500m' }, requests: { cpu: '250m' } });
    expect(service.imagePullPolicy).toBe('Always');
    expect(service.readinessProbe).toMatchObject({ httpGet: { path: '/ready', port: 3000, scheme: 'HTTP' }, periodSeconds: 5 });
    expect(service.livenessProbe).toMatchObject({ tcpSocket: { port: 3000 } });
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
  });
});
