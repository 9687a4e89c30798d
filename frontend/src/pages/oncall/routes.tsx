import type { RouteObject } from "react-router";
import { Maintenance } from "./Maintenance";
import { OnCallLayout } from "./OnCallLayout";
import { Policies } from "./Policies";
import { RoutingRules } from "./RoutingRules";
import { ScheduleDetail } from "./ScheduleDetail";
import { Schedules } from "./Schedules";
import { Silences } from "./Silences";

/** The on-call area: schedules, escalation policies, routing rules, maintenance windows and silences. */
export const oncallRoute: RouteObject = {
  path: "oncall",
  element: <OnCallLayout />,
  children: [
    { index: true, element: <Schedules /> },
    { path: "policies", element: <Policies /> },
    { path: "routing", element: <RoutingRules /> },
    { path: "maintenance", element: <Maintenance /> },
    { path: "silences", element: <Silences /> },
    { path: ":id", element: <ScheduleDetail /> },
  ],
};
