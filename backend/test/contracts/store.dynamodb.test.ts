import { DynamoStore } from '../../src/adapters/store/dynamodb/dynamoStore';
import { awsSettings, motoEndpoint, SKIP_MESSAGE, uniqueName } from '../aws/motoEnv';
import { describeStoreContract } from './store.contract';

const endpoint = motoEndpoint();

if (!endpoint) {
  describe('Store contract: dynamodb (moto)', function () {
    it('runs against moto', function () {
      this.skip();
    });
    before(function () {
      console.log(`  skipped: ${SKIP_MESSAGE}`);
    });
  });
} else {
  // One table prefix for the whole run: tables are created by the first init(), the suite's fresh ids keep tests apart.
  const tablePrefix = uniqueName('contract-') + '-';
  describeStoreContract('dynamodb (moto)', async () => {
    const store = new DynamoStore({ ...awsSettings(endpoint), tablePrefix });
    return { store, cleanup: () => store.close() };
  });
}
