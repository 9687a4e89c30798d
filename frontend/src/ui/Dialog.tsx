import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { Button } from ".";
import "./dialog.css";

/**
 * A modal dialog on the native <dialog> (focus is trapped and returned, Escape closes it), named by its title
 * so assistive technology — and the browser tests — find it by role and name.
 */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      {open && <><h2 id={titleId}>{title}</h2>{children}</>}
    </dialog>
  );
}

/** A button that asks first: "Delete" opens "<title>?" with Cancel and the confirming action. */
export function ConfirmButton({ label, ariaLabel, title, body, confirmLabel, onConfirm, busy, size = "sm" }: {
  label: string; ariaLabel?: string; title: string; body?: ReactNode; confirmLabel: string;
  onConfirm: () => Promise<unknown> | void; busy?: boolean; size?: "sm";
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button size={size} variant="danger" aria-label={ariaLabel} onClick={() => setOpen(true)}>{label}</Button>
      <Dialog open={open} title={title} onClose={() => setOpen(false)}>
        {body && <div className="dialog-body">{body}</div>}
        <div className="row dialog-actions">
          <Button onClick={() => setOpen(false)}>Cancel</Button>
          <Button variant="danger" busy={busy} onClick={async () => {
            try { await onConfirm(); } finally { setOpen(false); }
          }}>{confirmLabel}</Button>
        </div>
      </Dialog>
    </>
  );
}
