import type { Services } from '../services';

/** Refresh (also the offline status bar item's click): asks the backend again, then redraws. */
export async function refresh(s: Services): Promise<void> {
  await s.auth.refresh();
  await s.connection.check();
  s.tree.refresh();
}

export async function filterRepositories(s: Services): Promise<void> {
  const text = await s.ui.input({
    title: 'CloudSmith: Filter Repositories',
    prompt: 'Show repositories whose name contains (empty shows all)',
    value: s.tree.filter,
  });
  if (text !== undefined) s.tree.setFilter(text);
}
