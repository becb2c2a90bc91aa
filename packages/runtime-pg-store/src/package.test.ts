import { describePackageChecks } from '../../../scripts/package-checks.ts';

describePackageChecks(new URL('..', import.meta.url).pathname);
