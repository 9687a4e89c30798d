import { NavLink, Outlet } from "react-router";
import { PageHead } from "../../ui";

export function SettingsLayout() {
  return (
    <>
      <PageHead title="Settings" />
      <nav className="tabs" aria-label="Settings">
        <NavLink to="/settings/team" className="tab-link">Team</NavLink>
        <NavLink to="/settings/tokens" className="tab-link">API tokens</NavLink>
        <NavLink to="/settings/profile" className="tab-link">Profile</NavLink>
        <NavLink to="/settings/notifications" className="tab-link">Notifications</NavLink>
        <NavLink to="/settings/webhooks" className="tab-link">Webhooks</NavLink>
        <NavLink to="/settings/sso" className="tab-link">SSO</NavLink>
        <NavLink to="/settings/audit" className="tab-link">Audit log</NavLink>
        <NavLink to="/settings/billing" className="tab-link">Billing</NavLink>
      </nav>
      <Outlet />
    </>
  );
}
