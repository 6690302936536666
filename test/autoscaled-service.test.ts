import { ApiObject, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { MigratedService } from '../src';
import { named } from './support/manifests';
import { SHOP, shopChart } from './support/shop';

describe('a MigratedService whose replicas an autoscaler owns', () => {
  test('a cdk8s-plus HorizontalPodAutoscaler on svc.deployment leaves spec.replicas out, as cdk8s-plus does', () => {
    // GIVEN a service, and an HPA that targets its Deployment
    const chart = shopChart();
    const svc = new MigratedService(chart, 'shop', { ...SHOP, port: 3000, resources: { cpu: { request: kplus.Cpu.millis(100) } } });
    const hpa = new kplus.HorizontalPodAutoscaler(chart, 'hpa', { target: svc.deployment, minReplicas: 3, maxReplicas: 10 });
    // WHEN it is synthesized
    const manifests = Testing.synth(chart);
    // THEN the Deployment has no replica count for a sync to reset, and the HPA has its minimum
    expect(named(manifests, 'Deployment', 'shop').spec).not.toHaveProperty('replicas');
    expect(named(manifests, 'HorizontalPodAutoscaler', hpa.name).spec.minReplicas).toBe(3);
  });

  test.each([
    ['an L1 HorizontalPodAutoscaler', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop' }, minReplicas: 2, maxReplicas: 6 } }],
    ['a KEDA ScaledObject (its target is a Deployment unless it says otherwise)', { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', spec: { scaleTargetRef: { name: 'shop' }, triggers: [] } }],
  ])('%s, created after the service, is found at synth and spec.replicas left out', (_label, autoscaler) => {
    const chart = shopChart();
    new MigratedService(chart, 'shop', SHOP);
    new ApiObject(chart, 'scaler', { ...autoscaler, metadata: { name: 'shop' } });
    expect(named(Testing.synth(chart), 'Deployment', 'shop').spec).not.toHaveProperty('replicas');
  });

  test('an autoscaler of another Deployment, or in another namespace, changes nothing', () => {
    const chart = shopChart();
    new MigratedService(chart, 'shop', SHOP);
    new ApiObject(chart, 'other', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'other' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'other' }, maxReplicas: 5 } });
    new ApiObject(chart, 'elsewhere', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'elsewhere', namespace: 'staging' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'shop' }, maxReplicas: 5 } });
    expect(named(Testing.synth(chart), 'Deployment', 'shop').spec.replicas).toBe(2);
  });

  test('autoscaled: true leaves spec.replicas out for an autoscaler outside the App', () => {
    const chart = shopChart();
    new MigratedService(chart, 'shop', { ...SHOP, autoscaled: true });
    expect(named(Testing.synth(chart), 'Deployment', 'shop').spec).not.toHaveProperty('replicas');
  });

  test('replicas together with an autoscaler is refused at synth, naming the construct, the prop, the value, the autoscaler and the fix', () => {
    // GIVEN a replica count AND an HPA on the same Deployment
    const chart = shopChart();
    const svc = new MigratedService(chart, 'shop', { ...SHOP, replicas: 4 });
    new kplus.HorizontalPodAutoscaler(chart, 'hpa', { target: svc.deployment, maxReplicas: 10 });
    // THEN synthesis refuses it: every sync would reset the autoscaler's count to 4
    const refused = () => Testing.synth(chart);
    expect(refused).toThrow(/MigratedService "shop\/shop": replicas 4 is invalid: the HorizontalPodAutoscaler "shop-hpa-\w+" \(shop\/hpa\) owns the Deployment's replica count/);
    expect(refused).toThrow('Remove replicas, and give the autoscaler its minimum (minReplicas) instead.');
  });

  test('replicas with autoscaled: true is refused at construction', () => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, replicas: 3, autoscaled: true })).toThrow(
      /^MigratedService "shop\/shop": replicas 3 is invalid: an autoscaler \(autoscaled: true\) owns the Deployment's replica count/);
  });

  test('autoscaled given as the string "true" is refused at construction, with the fix', () => {
    // WHEN autoscaled comes from untyped input as a string THEN the prop types refuse it, naming prop, value and fix
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, autoscaled: 'true' as any })).toThrow(
      /^MigratedService "shop\/shop": autoscaled "true" is invalid: it is true or false: write true, not the string "true"\./);
  });

  test('autoscaled: false with an autoscaler that targets the Deployment is refused at synth', () => {
    const chart = shopChart();
    const svc = new MigratedService(chart, 'shop', { ...SHOP, autoscaled: false });
    new kplus.HorizontalPodAutoscaler(chart, 'hpa', { target: svc.deployment, maxReplicas: 10 });
    expect(() => Testing.synth(chart)).toThrow(/MigratedService "shop\/shop": autoscaled false is invalid: the HorizontalPodAutoscaler .* scales the Deployment "shop"/);
  });

  test('the capacity warning (MS015) judges a gated Deployment at the autoscaler\'s minimum and maximum', () => {
    // GIVEN a gated Deployment with the default 25% maxUnavailable, no replica count, and an HPA up to 8
    const chart = shopChart();
    const svc = new MigratedService(chart, 'shop', SHOP);
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' }, progressDeadline: svc.migration.progressDeadline });
    worker.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1.2.3', resources: { cpu: { request: kplus.Cpu.millis(100) } } });
    svc.migration.gate(worker);
    new kplus.HorizontalPodAutoscaler(chart, 'hpa', { target: worker, minReplicas: 1, maxReplicas: 8 });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // WHEN it is synthesized
      Testing.synth(chart);
      // THEN MS015 names the autoscaler and what a stuck rollout stops at its maximum
      const ms015 = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('MS015'));
      expect(ms015).toHaveLength(1);
      expect(ms015[0]).toMatch(/HorizontalPodAutoscaler "shop-hpa-\w+" \(shop\/hpa\) scales it to 8, where it stops 2/);
    } finally {
      warn.mockRestore();
    }
  });
});
