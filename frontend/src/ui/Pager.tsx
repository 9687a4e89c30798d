/** Previous/next for a paged list answer ({page, total_pages, total}). */
export function Pager({ page, totalPages, total, onPage, label }:
  { page: number; totalPages: number; total: number; onPage: (page: number) => void; label: string }) {
  if (totalPages <= 1) return null;
  return (
    <nav className="row pager" aria-label={`${label} pages`}>
      <button type="button" className="btn btn-sm" disabled={page <= 1} onClick={() => onPage(page - 1)}>← Previous</button>
      <span className="muted">Page {page} of {totalPages} ({total})</span>
      <button type="button" className="btn btn-sm" disabled={page >= totalPages} onClick={() => onPage(page + 1)}>Next →</button>
    </nav>
  );
}
