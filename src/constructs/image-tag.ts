import { Construct } from 'constructs';
import { checkArgument, CONSTRUCT, STRING } from './prop-types';
import { invalidProp, validateImageTag } from './validation';

/**
 * Reads the release's image tag from where the pipeline put it, and checks it before any
 * manifest is written.
 *
 * @example
 * const imageTag = ImageTag.fromEnv(); // reads IMAGE_TAG
 */
export class ImageTag {
  /** The environment variable `fromEnv()` reads unless told otherwise. */
  public static readonly DEFAULT_ENV_VARIABLE = 'IMAGE_TAG';

  /** The context key `fromContext()` reads unless told otherwise. */
  public static readonly DEFAULT_CONTEXT_KEY = 'imageTag';

  /**
   * The tag in the environment variable `variable`.
   *
   * @param variable the environment variable, `IMAGE_TAG` by default
   * @throws when the variable is unset, empty, or not a Docker tag
   */
  public static fromEnv(variable: string = ImageTag.DEFAULT_ENV_VARIABLE): string {
    checkArgument('ImageTag.fromEnv()', 'variable', variable, STRING);
    const tag = process.env[variable];
    if (tag === '') {
      throw new Error(`ImageTag.fromEnv(): the environment variable ${variable} is set but empty: the step that exports it found no tag. `
        + `Check how your pipeline computes it (e.g. \`${variable}=$(git rev-parse --short HEAD)\`), then run \`${variable}=v1.2.3 cdk8s synth\`.`);
    }
    if (tag === undefined) {
      throw new Error(`ImageTag.fromEnv(): the environment variable ${variable} is not set. `
        + `Set it to the image tag of this release, e.g. \`${variable}=v1.2.3 cdk8s synth\`, as your pipeline does after building the images.`);
    }
    validateImageTag('ImageTag.fromEnv()', `environment variable ${variable}`, tag);
    return tag;
  }

  /**
   * The tag in the construct context key `key`, set on the app before the charts are built, e.g.
   * `app.node.setContext('imageTag', tag)` with a tag read from a file or a command-line argument.
   *
   * @param scope any construct of the app
   * @param key the context key, `imageTag` by default
   * @throws when the key is unset or not a Docker tag
   */
  public static fromContext(scope: Construct, key: string = ImageTag.DEFAULT_CONTEXT_KEY): string {
    checkArgument('ImageTag.fromContext()', 'scope', scope, CONSTRUCT);
    checkArgument('ImageTag.fromContext()', 'key', key, STRING);
    const tag: unknown = scope.node.tryGetContext(key);
    if (tag === undefined || tag === '') {
      throw new Error(`ImageTag.fromContext(): the context key "${key}" is not set. `
        + `Set it on the app before building the charts: app.node.setContext('${key}', 'v1.2.3').`);
    }
    if (typeof tag !== 'string') {
      throw invalidProp('ImageTag.fromContext()', `context key "${key}"`, tag, 'the tag must be a string; quote it in YAML (e.g. "1.0").');
    }
    validateImageTag('ImageTag.fromContext()', `context key "${key}"`, tag);
    return tag;
  }

  private constructor() {}
}
