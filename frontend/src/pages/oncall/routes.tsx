import { lazy } from "react";
import type { RouteObject } from "react-router";
import { LazyPage } from "../../ui/LazyPage";
import { OnCallLayout } from "./OnCallLayout";
import { Schedules } from "./Schedules";

// The editors and the schedule page are loaded on first visit (kept out of the initial bundle).
const Policies = lazy(() => import("./Policies").then((m) => ({ default: m.Policies })));
const RoutingRules = lazy(() => import("./RoutingRules").then((m) => ({ default: m.RoutingRules })));
const Maintenance = lazy(() => import("./Maintenance").then((m) => ({ default: m.Maintenance })));
const ScheduleDetail = lazy(() => import("./ScheduleDetail").then((m) => ({ default: m.ScheduleDetail })));
const Silences = lazy(() => import("./Silences").then((m) => ({ default: m.Silences })));

/** The on-call area: schedules, escalation policies, routing rules, maintenance windows and silences. */
export const oncallRoute: RouteObject = {
  path: "oncall",
  element: <OnCallLayout />,
  children: [
    { index: true, element: <Schedules /> },
    { path: "policies", element: <LazyPage><Policies /></LazyPage> },
    { path: "routing", element: <LazyPage><RoutingRules /></LazyPage> },
    { path: "maintenance", element: <LazyPage><Maintenance /></LazyPage> },
    { path: "silences", element: <LazyPage><Silences /></LazyPage> },
    { path: ":id", element: <LazyPage><ScheduleDetail /></LazyPage> },
  ],
};
