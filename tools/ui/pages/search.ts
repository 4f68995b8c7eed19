// `/search?type=device|product|cve&q=…`: the search box's target, a redirect to the page's shareable URL.
import { UsageError } from '../../query/errors';
import { href } from '../html';
import { required } from './common';

export function searchTarget(params: URLSearchParams): string {
  const q = required(params, 'q', 'what to look for');
  const type = params.get('type') ?? 'device';
  if (type === 'device') return href('/device', { id: q });
  if (type === 'product') return href('/product', { name: q });
  if (type === 'cve') return href('/cve', { id: q });
  throw new UsageError(`?type= is device, product or cve, not "${type}"`);
}
