import { ForbiddenError } from '../errors.js';
import { isKubeError } from '../kube/errors.js';

/**
 * Opens the watches a run cannot do without (pods and events); a refusal is
 * RBAC's answer, exit 20, in create and watch alike. Connection and
 * credential failures arrive already translated by the cluster API.
 */
export async function openRequiredWatches<T>(namespace: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (isKubeError(error, 'forbidden')) {
      throw new ForbiddenError(
        `not allowed to watch pods or events in ${namespace} (${error.message}): podtrace needs list and watch on pods and events (deploy/rbac.yaml)`,
        { cause: error },
      );
    }
    throw error;
  }
}

