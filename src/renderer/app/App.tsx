export function App() {
  return <div>Strikedesk</div>;
}
