import { useState, type DragEvent } from 'react';

/** Drag-and-drop onto an element: whether something hovers it, and the handlers to spread on it. */
export function useDropZone(onDrop: (data: DataTransfer) => void) {
  const [dropping, setDropping] = useState(false);
  return {
    dropping,
    handlers: {
      onDragOver: (e: DragEvent) => {
        e.preventDefault();
        setDropping(true);
      },
      onDragLeave: () => setDropping(false),
      onDrop: (e: DragEvent) => {
        e.preventDefault();
        setDropping(false);
        onDrop(e.dataTransfer);
      },
    },
  };
}
