import { App } from 'cdk8s';
import { ImageTag } from '../src';

describe('ImageTag.fromEnv', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('reads IMAGE_TAG by default, or the variable named', () => {
    process.env.IMAGE_TAG = 'v1.2286938253.0';
    process.env.RELEASE = 'abc1234';
    expect(ImageTag.fromEnv()).toBe('v1.2286938253.0');
    expect(ImageTag.fromEnv('RELEASE')).toBe('abc1234');
  });

  test('an unset or empty variable is an error that says how to set it', () => {
    delete process.env.IMAGE_TAG;
    expect(() => ImageTag.fromEnv()).toThrow(/the environment variable IMAGE_TAG is not set\. Set it to the image tag of this release/);
    process.env.IMAGE_TAG = '';
    expect(() => ImageTag.fromEnv()).toThrow(/IMAGE_TAG is set but empty/);
  });

  test('an invalid tag is an error that names the variable', () => {
    process.env.IMAGE_TAG = 'registry.example.com/myapp:v1';
    expect(() => ImageTag.fromEnv()).toThrow(/environment variable IMAGE_TAG "registry.example.com\/myapp:v1" is invalid: a Docker tag/);
  });
});

function withContext(context: Record<string, unknown>): App {
  const app = new App();
  for (const [key, value] of Object.entries(context)) {
    app.node.setContext(key, value);
  }
  return app;
}

describe('ImageTag.fromContext', () => {
  test('reads the imageTag context key by default', () => {
    const app = withContext({ imageTag: 'v2', release: 'r9' });
    expect(ImageTag.fromContext(app)).toBe('v2');
    expect(ImageTag.fromContext(app, 'release')).toBe('r9');
  });

  test('an unset key, a number or an invalid tag is an error', () => {
    expect(() => ImageTag.fromContext(new App())).toThrow(/the context key "imageTag" is not set\. .*app\.node\.setContext\('imageTag'/);
    expect(() => ImageTag.fromContext(withContext({ imageTag: 1.0 }))).toThrow(/context key "imageTag" 1 is invalid: the tag must be a string/);
    expect(() => ImageTag.fromContext(withContext({ imageTag: 'latest' }))).toThrow(/"latest" names no release/);
  });
});
