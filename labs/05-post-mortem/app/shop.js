'use strict';
// shop.js: a shop back end that keeps its orders, customers, carts and one
// coupon in memory. What exactly it holds is decided when it starts (derived
// from the machine and directory it runs in) and never printed: the lab has
// you learn it from a core file. Not a secret, though: the same seed gives
// the same shop, so this generator (openShop(seedText(dir))) computes it too,
// which is how the checker's own core is the shop the student looked at.
// Run:  node app/shop.js &
// Runs on Node 6 and Node 20. Constructor functions, not ES6 classes, so that
// post-mortem debuggers (mdb_v8, llnode) can name every object's constructor.

var os = require('os');
var path = require('path');

// A small deterministic generator: same machine + same directory = same shop.
function makeRandom(text) {
  var s = 2166136261;
  for (var i = 0; i < text.length; i++) s = Math.imul(s ^ text.charCodeAt(i), 16777619) >>> 0;
  return function () {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function Customer(id, name) {
  this.id = id;
  this.name = name;
  this.since = 2010 + (id % 14);
}

function Order(id, customer, total) {
  this.id = id;
  this.customer = customer;
  this.total = total;
  this.state = 'paid';
}

function Cart(owner) {
  this.owner = owner;
  this.items = [];
  this.coupon = null;
}

function Promotion(title) {
  this.title = title;
  this.startsAt = '2026-12-01';
  this.coupon = null;
}

function Coupon(code, percent) {
  this.code = code;
  this.percent = percent;
}

function openShop(seedText) {
  var rnd = makeRandom(seedText);
  var letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  var i;
  var shop = { customers: [], orders: [], carts: [], promotions: [] };
  for (i = 0; i < 40; i++) shop.customers.push(new Customer(i, 'customer-' + i));
  var orders = 150 + Math.floor(rnd() * 300);
  for (i = 0; i < orders; i++) {
    shop.orders.push(new Order(1000 + i, shop.customers[i % 40], Math.floor(rnd() * 50000) / 100));
  }
  for (i = 0; i < 12; i++) shop.carts.push(new Cart(shop.customers[i]));
  shop.promotions.push(new Promotion('winter sale'), new Promotion('new customers'));
  var code = 'TL-';
  for (i = 0; i < 6; i++) code += letters.charAt(Math.floor(rnd() * letters.length));
  var coupon = new Coupon(code, 5 + Math.floor(rnd() * 6) * 5);
  // The one reference to the coupon: from a cart, a customer or a promotion.
  var holder = [shop.carts[3], shop.customers[7], shop.promotions[1]][Math.floor(rnd() * 3)];
  holder.coupon = coupon;
  return shop;
}

function seedText(dir) {
  return os.hostname() + ':' + path.resolve(dir);
}

if (require.main === module) {
  var shop = openShop(seedText(__dirname));
  // Keep the shop reachable and the process alive, doing nothing visible.
  setInterval(function () {
    return shop.orders.length;
  }, 1000);
  console.log('shop open, pid ' + process.pid);
}

module.exports = { openShop: openShop, seedText: seedText };
