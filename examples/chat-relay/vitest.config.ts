import { packageTestConfig } from '../../vitest.shared.ts';

export default packageTestConfig('example-chat-relay');
