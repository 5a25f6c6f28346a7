/** placeholder */
export function dashboardJson(): object {
  return {};
}
