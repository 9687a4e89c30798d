import { Suspense, type ReactNode } from "react";
import { Loading } from ".";

/** A page whose code is loaded on first visit (React.lazy): the spinner until it arrives. */
export function LazyPage({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}
