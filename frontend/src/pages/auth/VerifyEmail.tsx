import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { ME_KEY } from "../../api/session";
import { Alert, ErrorAlert, Loading } from "../../ui";
import { AuthLayout } from "./AuthLayout";

export function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const qc = useQueryClient();
  const started = useRef(false);
  const verify = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/auth/verify-email", { body: { token } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ME_KEY }),
  });
  useEffect(() => {
    if (token && !started.current) {
      started.current = true;
      verify.mutate();
    }
  }, [token, verify]);
  return (
    <AuthLayout title="Confirm your e-mail">
      {!token && <Alert>This link has no token. Open the link from the e-mail again.</Alert>}
      {verify.isPending && <Loading label="Confirming…" />}
      {verify.isSuccess && <Alert kind="ok">Your e-mail address is confirmed.</Alert>}
      {verify.isError && <ErrorAlert error={verify.error} />}
      <p><Link to="/">Continue to Xinex</Link></p>
    </AuthLayout>
  );
}
