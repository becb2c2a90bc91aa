import { describeRuntimeConformance, describeRuntimeStore } from '@worker-runtime/core/testing';
import { pgFixture } from './test-support/pg-fixture.js';

describeRuntimeStore('postgres store', () => pgFixture());
describeRuntimeConformance('postgres store', () => pgFixture());
