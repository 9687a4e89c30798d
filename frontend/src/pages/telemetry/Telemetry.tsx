import { NavLink, Outlet } from "react-router";
import { PageHead } from "../../ui";

/** Traces and logs, side by side with Explore (OQL) in the navigation. */
export function TelemetryLayout() {
  return (
    <>
      <PageHead title="Telemetry" subtitle="Traces and logs your services send over OTLP (docs/telemetry.md)." />
      <nav className="tabs" aria-label="Telemetry">
        <NavLink to="/telemetry/traces" className="tab-link">Traces</NavLink>
        <NavLink to="/telemetry/logs" className="tab-link">Logs</NavLink>
      </nav>
      <Outlet />
    </>
  );
}
