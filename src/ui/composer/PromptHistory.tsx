import { useState } from 'react';
import { searchHistory } from './prompt-history';

/** The last prompts, searchable; picking one puts it in the prompt box. */
export function PromptHistory({ history, onPick }: { history: readonly string[]; onPick: (prompt: string) => void }) {
  const [query, setQuery] = useState('');
  if (history.length === 0) return null;
  const found = searchHistory(history, query);
  return (
    <details className="prompt-history">
      <summary>Prompt history ({history.length})</summary>
      <input type="search" aria-label="Search prompt history" placeholder="search" value={query} onChange={(e) => setQuery(e.target.value)} />
      <ul>
        {found.map((p) => (
          <li key={p}>
            <button type="button" className="link-like" onClick={() => onPick(p)}>
              {p}
            </button>
          </li>
        ))}
      </ul>
      {found.length === 0 && <p className="muted">No prompt holds “{query}”.</p>}
    </details>
  );
}
