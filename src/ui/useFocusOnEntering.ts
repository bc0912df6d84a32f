/**
 * Keyboard and screen-reader users keep their place when the pressed button goes away (Train,
 * Pause, Discard): the element of this ref takes focus each time `when` turns true after the first
 * render (never on mount, so opening a section does not move focus).
 */
import { useEffect, useRef } from 'react';

export function useFocusOnEntering<T extends HTMLElement>(when: boolean, key: unknown = when) {
  const ref = useRef<T>(null);
  const previous = useRef(key);
  useEffect(() => {
    if (previous.current === key) return;
    previous.current = key;
    if (when) ref.current?.focus();
  }, [when, key]);
  return ref;
}
