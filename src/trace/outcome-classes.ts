/** Each outcome class's exit code and its one line of advice. */
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { OutcomeClass } from './types.js';

/**
 * The exit code of each class. One exception, decided per failure: a POST
 * answered 409 AlreadyExists is 'api-error' with EXIT.usage (the name the
 * person chose is taken), see classifyPostError.
 */
export const OUTCOME_EXIT: Readonly<Record<OutcomeClass, ExitCode | null>> = {
  ready: EXIT.ok,
  'in-progress': null,
  unschedulable: EXIT.unschedulable,
  'image-pull-not-found': EXIT.imagePullNotFound,
  'image-pull-unauthorized': EXIT.imagePullUnauthorized,
  'image-pull-backoff': EXIT.imagePullBackoff,
  'crash-loop': EXIT.crashLoop,
  'container-config-error': EXIT.containerConfigError,
  'sandbox-failure': EXIT.sandboxFailure,
  'readiness-never-succeeded': EXIT.readinessNeverSucceeded,
  'admission-rejected': EXIT.admissionRejected,
  'validation-rejected': EXIT.validationRejected,
  forbidden: EXIT.forbidden,
  'pod-failed': EXIT.podFailed,
  succeeded: EXIT.succeeded,
  'api-error': EXIT.internal, // 409 AlreadyExists: EXIT.usage
  timeout: EXIT.timeout,
  interrupted: EXIT.interrupted,
};

export const OUTCOME_HINT: Readonly<Record<OutcomeClass, string>> = {
  ready: 'The pod is Ready.',
  'in-progress': 'Still waiting for the pod to become Ready.',
  unschedulable: 'No node fits the pod: read the scheduler message (resources, taints, node selectors) and adjust the pod or add capacity.',
  'image-pull-not-found': 'The registry says the image does not exist: check the image name and tag.',
  'image-pull-unauthorized': 'The registry refused access: check the image name, or add an imagePullSecret with credentials for it.',
  'image-pull-backoff': 'The image could not be pulled: check the image reference and that the node can reach the registry.',
  'crash-loop': 'The container keeps exiting: check `kubectl logs --previous` and its command, args and environment.',
  'container-config-error': 'The container could not be created as specified: check referenced ConfigMaps/Secrets, the image name and the command.',
  'sandbox-failure': 'The runtime could not create the pod sandbox: check the CNI plugin and the container runtime on the node.',
  'readiness-never-succeeded': 'The container runs but its readiness probe never passed: check the probe path/port and how long the app takes to start.',
  'admission-rejected': 'An admission webhook or policy denied the pod: read its message and change the manifest or the policy.',
  'validation-rejected': 'The API server rejected the manifest as invalid: fix the fields named in the message.',
  forbidden: 'You may not create pods here: ask for RBAC permission (`kubectl auth can-i create pods -n <namespace>`).',
  'pod-failed': 'The pod ended before it was Ready: check the containers\' exit codes and logs.',
  succeeded: 'The pod ran to completion and ended: it is never Ready (a Job\'s pod); trace a long-running process to time a start to Ready.',
  'api-error': 'The API server answered the create request with an error: see its message.',
  timeout: 'Nothing failed, but the pod was not Ready in time: raise --timeout or look at the slowest phase.',
  interrupted: 'Interrupted before the pod was Ready.',
};
