/** Paths of the project, from a compiled test file in build/test/. */
import { fileURLToPath } from 'node:url';

/** The project's root directory (tests run from build/test/..., compiled). */
export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
