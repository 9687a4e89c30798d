import { lazy } from "react";
import { createBrowserRouter, Navigate } from "react-router";
import { AppShell, RequireAuth, RouteError } from "./layout/AppShell";
import { AiHeartbeatDetail } from "./pages/ai/AiHeartbeatDetail";
import { AcceptInvitation } from "./pages/auth/AcceptInvitation";
import { Consent } from "./pages/auth/Consent";
import { ForgotPassword, ResetPassword } from "./pages/auth/Password";
import { Login } from "./pages/auth/Login";
import { RegisterConfirm, Signup } from "./pages/auth/Signup";
import { VerifyEmail } from "./pages/auth/VerifyEmail";
import { HeartbeatDetail } from "./pages/heartbeats/HeartbeatDetail";
import { HeartbeatForm } from "./pages/heartbeats/HeartbeatForm";
import { HeartbeatList } from "./pages/heartbeats/HeartbeatList";
import { IncidentDetail } from "./pages/incidents/IncidentDetail";
import { IncidentList } from "./pages/incidents/IncidentList";
import { NotFound } from "./pages/NotFound";
import { Overview } from "./pages/Overview";
import { Explore } from "./pages/explore/Explore";
import { Feed } from "./pages/notifications/Feed";
import { Channels } from "./pages/channels/Channels";
import { MonitorDetail } from "./pages/monitors/MonitorDetail";
import { MonitorForm, MonitorList } from "./pages/monitors/Monitors";
import { oncallRoute } from "./pages/oncall/routes";
import { Profile } from "./pages/settings/Profile";
import { SettingsLayout } from "./pages/settings/Settings";
import { Team } from "./pages/settings/Team";
import { Tokens } from "./pages/settings/Tokens";
import { TelemetryLayout } from "./pages/telemetry/Telemetry";
import { LazyPage } from "./ui/LazyPage";

// Loaded on first visit (kept out of the initial bundle).
const Webhooks = lazy(() => import("./pages/webhooks/Webhooks").then((m) => ({ default: m.Webhooks })));
const WebhookDetail = lazy(() => import("./pages/webhooks/WebhookDetail").then((m) => ({ default: m.WebhookDetail })));
const AuditLog = lazy(() => import("./pages/settings/AuditLog").then((m) => ({ default: m.AuditLog })));
const NotificationPrefs = lazy(() => import("./pages/settings/NotificationPrefs").then((m) => ({ default: m.NotificationPrefs })));
const Traces = lazy(() => import("./pages/telemetry/Traces").then((m) => ({ default: m.Traces })));
const TraceView = lazy(() => import("./pages/telemetry/Traces").then((m) => ({ default: m.TraceView })));
const Logs = lazy(() => import("./pages/telemetry/Logs").then((m) => ({ default: m.Logs })));
const StatusPages = lazy(() => import("./pages/statuspages/StatusPages").then((m) => ({ default: m.StatusPages })));
const StatusPageEditor = lazy(() => import("./pages/statuspages/StatusPageEditor").then((m) => ({ default: m.StatusPageEditor })));
const Billing = lazy(() => import("./pages/settings/Billing").then((m) => ({ default: m.Billing })));
const BillingReturn = lazy(() => import("./pages/settings/Billing").then((m) => ({ default: m.BillingReturn })));
const Sso = lazy(() => import("./pages/settings/Sso").then((m) => ({ default: m.Sso })));

export const router = createBrowserRouter([
  { path: "/login", element: <Login />, errorElement: <RouteError /> },
  { path: "/signup", element: <Signup />, errorElement: <RouteError /> },
  { path: "/register/confirm", element: <RegisterConfirm />, errorElement: <RouteError /> },
  { path: "/verify-email", element: <VerifyEmail />, errorElement: <RouteError /> },
  { path: "/forgot-password", element: <ForgotPassword />, errorElement: <RouteError /> },
  { path: "/reset-password", element: <ResetPassword />, errorElement: <RouteError /> },
  { path: "/invitations/accept", element: <AcceptInvitation />, errorElement: <RouteError /> },
  { path: "/authorize", element: <Consent />, errorElement: <RouteError /> },
  {
    element: <RequireAuth><AppShell /></RequireAuth>,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <Overview /> },
      { path: "heartbeats", element: <HeartbeatList /> },
      { path: "heartbeats/new", element: <HeartbeatForm /> },
      { path: "heartbeats/:id", element: <HeartbeatDetail /> },
      { path: "heartbeats/:id/edit", element: <HeartbeatForm /> },
      { path: "ai-heartbeats/:id", element: <AiHeartbeatDetail /> },
      { path: "incidents", element: <IncidentList /> },
      { path: "incidents/:id", element: <IncidentDetail /> },
      { path: "monitors", element: <MonitorList /> },
      { path: "monitors/new", element: <MonitorForm /> },
      { path: "monitors/:id", element: <MonitorDetail /> },
      { path: "monitors/:id/edit", element: <MonitorForm /> },
      { path: "channels", element: <Channels /> },
      { path: "notification-channels/:id", element: <Channels /> },
      oncallRoute,
      { path: "explore", element: <Explore /> },
      { path: "billing", element: <LazyPage><BillingReturn /></LazyPage> },
      { path: "status-pages", element: <LazyPage><StatusPages /></LazyPage> },
      { path: "status-pages/:id", element: <LazyPage><StatusPageEditor /></LazyPage> },
      {
        path: "telemetry",
        element: <TelemetryLayout />,
        children: [
          { index: true, element: <Navigate to="/telemetry/traces" replace /> },
          { path: "traces", element: <LazyPage><Traces /></LazyPage> },
          { path: "traces/:traceId", element: <LazyPage><TraceView /></LazyPage> },
          { path: "logs", element: <LazyPage><Logs /></LazyPage> },
        ],
      },
      { path: "notifications", element: <Feed /> },
      {
        path: "settings",
        element: <SettingsLayout />,
        children: [
          { index: true, element: <Navigate to="/settings/team" replace /> },
          { path: "team", element: <Team /> },
          { path: "tokens", element: <Tokens /> },
          { path: "profile", element: <Profile /> },
          { path: "notifications", element: <LazyPage><NotificationPrefs /></LazyPage> },
          { path: "webhooks", element: <LazyPage><Webhooks /></LazyPage> },
          { path: "webhooks/:id", element: <LazyPage><WebhookDetail /></LazyPage> },
          { path: "sso", element: <LazyPage><Sso /></LazyPage> },
          { path: "audit", element: <LazyPage><AuditLog /></LazyPage> },
          { path: "billing", element: <LazyPage><Billing /></LazyPage> },
        ],
      },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
