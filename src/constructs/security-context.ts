import * as kplus from 'cdk8s-plus-28';

/** The Pod Security Standards "restricted" profile, for every container the constructs emit. */
export const RESTRICTED_CONTAINER_SECURITY_CONTEXT: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true,
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: [kplus.Capability.ALL] },
  seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
};

/**
 * The restricted defaults with the user's overrides laid over them. Capabilities merge field by
 * field: adding NET_BIND_SERVICE, which the restricted profile allows, must not lose `drop: [ALL]`.
 */
export function restrictedSecurityContext(overrides: kplus.ContainerSecurityContextProps = {}): kplus.ContainerSecurityContextProps {
  return {
    ...RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    ...overrides,
    capabilities: { ...RESTRICTED_CONTAINER_SECURITY_CONTEXT.capabilities, ...overrides.capabilities },
  };
}

/**
 * The restricted profile as container JSON, for containers added to workloads the constructs did
 * not create (where no cdk8s-plus serializer runs).
 */
export function restrictedSecurityContextJson(user: number): { [key: string]: unknown } {
  return {
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: user,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
