/** htm bound to Preact: components are written as tagged templates, no JSX step. */
export { html } from 'htm/preact';
