// A modal on the native <dialog>: focus stays inside, Esc closes, focus returns to the opener.
import { useEffect, useRef, type ReactNode } from 'react';

export function Dialog({
  title,
  open,
  onClose,
  children,
  labelId,
}: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
  labelId: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={labelId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {open && (
        <>
          <h2 id={labelId}>{title}</h2>
          {children}
        </>
      )}
    </dialog>
  );
}
