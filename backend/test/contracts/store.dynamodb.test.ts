import { DynamoStore } from '../../src/adapters/store/dynamodb/dynamoStore';
import { awsSettings, requireMoto, uniqueName } from '../aws/motoEnv';
import { describeStoreContract } from './store.contract';

describe('DynamoStore (moto)', function () {
  let endpoint = '';
  before(function () {
    endpoint = requireMoto(this);
  });

  // One table prefix for the whole run: tables are created by the first init(), the suite's fresh ids keep tests apart.
  const tablePrefix = uniqueName('contract-') + '-';
  describeStoreContract('dynamodb (moto)', async () => {
    const store = new DynamoStore({ ...awsSettings(endpoint), tablePrefix });
    return { store, cleanup: () => store.close() };
  });
});
