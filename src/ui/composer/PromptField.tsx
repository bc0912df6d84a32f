import { useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { ConceptSummary } from '../../library/concept-record';
import { conceptKindLabel } from './concept-kind';
import { completions, insertToken, tokenAt, type TypedToken } from './token-autocomplete';

interface Props {
  value: string;
  onChange: (value: string) => void;
  concepts: readonly ConceptSummary[];
}

const LISTBOX = 'prompt-completions';

/**
 * The prompt box, completing library concept tokens as they are typed (`<`, or a token's first
 * letters): a listbox the textbox points into with aria-activedescendant; ↑/↓ move, Enter or Tab
 * take the token, Esc closes.
 */
export function PromptField({ value, onChange, concepts }: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const [typed, setTyped] = useState<TypedToken | null>(null);
  const [active, setActive] = useState(0);
  const [caret, setCaret] = useState<number | null>(null);
  const options = typed ? completions(concepts, typed.query) : [];
  const open = options.length > 0;

  useLayoutEffect(() => {
    if (caret === null || !ref.current) return;
    ref.current.setSelectionRange(caret, caret);
    setCaret(null);
  }, [caret]);

  const look = (text: string, at: number | null) => {
    const next = at === null ? null : tokenAt(text, at);
    setTyped(next);
    if (next?.query !== typed?.query) setActive(0);
  };

  const accept = (token: string) => {
    if (!typed) return;
    const next = insertToken(value, typed, token);
    onChange(next.text);
    setTyped(null);
    setCaret(next.caret);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (!open || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length);
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      accept(options[Math.min(active, options.length - 1)].token);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setTyped(null);
    }
  };

  return (
    <div className="prompt-field">
      <label>
        Prompt
        <textarea
          ref={ref}
          name="prompt"
          rows={3}
          value={value}
          placeholder="a photo of an astronaut riding a horse"
          aria-autocomplete="list"
          aria-controls={LISTBOX}
          aria-activedescendant={open ? `${LISTBOX}-${Math.min(active, options.length - 1)}` : undefined}
          onChange={(e) => {
            onChange(e.target.value);
            look(e.target.value, e.target.selectionStart);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setTyped(null)}
        />
      </label>
      <ul id={LISTBOX} role="listbox" aria-label="Concept tokens" className="completions" hidden={!open}>
        {options.map((c, i) => (
          <li
            key={c.id}
            id={`${LISTBOX}-${i}`}
            role="option"
            aria-selected={i === Math.min(active, options.length - 1)}
            onMouseDown={(e) => {
              e.preventDefault(); // keeps the focus in the prompt
              accept(c.token);
            }}
          >
            <span className="token">{c.token}</span> <span className="muted">{conceptKindLabel(c)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
