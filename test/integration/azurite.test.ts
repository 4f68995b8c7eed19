import { TableClient } from '@azure/data-tables';
import { useAzurite } from '../helpers/azurite';

describe('test Azurite', () => {
  const azurite = useAzurite();
  it('serves tables on the ports it reports', async () => {
    const t = TableClient.fromConnectionString(azurite().connectionString, 'Probe', { allowInsecureConnection: true });
    await t.createTable();
    await t.upsertEntity({ partitionKey: 'p', rowKey: 'r', N: 1 });
    const e = await t.getEntity<{ N: number }>('p', 'r');
    expect(e.N).toBe(1);
  });
});
