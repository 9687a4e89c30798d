import { Link } from "react-router";
import { Empty } from "../ui";

export function NotFound() {
  return (
    <Empty title="Page not found">
      <p>There is no page here. <Link to="/">Go to the overview</Link>.</p>
    </Empty>
  );
}
