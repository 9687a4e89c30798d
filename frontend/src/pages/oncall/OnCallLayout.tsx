import { NavLink, Outlet } from "react-router";
import "./oncall.css";

/** The on-call area's own navigation above each of its pages. */
export function OnCallLayout() {
  return (
    <>
      <nav className="tabs" aria-label="On-call">
        <NavLink to="/oncall" end className="tab-link">Schedules</NavLink>
        <NavLink to="/oncall/policies" className="tab-link">Escalation policies</NavLink>
        <NavLink to="/oncall/routing" className="tab-link">Routing rules</NavLink>
        <NavLink to="/oncall/maintenance" className="tab-link">Maintenance</NavLink>
        <NavLink to="/oncall/silences" className="tab-link">Silences</NavLink>
      </nav>
      <Outlet />
    </>
  );
}
