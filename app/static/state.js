// What the page shares between its modules: element lookup and the record of what it did.

export const $ = (id) => document.getElementById(id);

// What the page did last, for "same seed again"; the browser tests read it as
// window.audioVaeDemo (set by app.js).
export const demo = { last: null, results: [], model: null, voices: [] };
