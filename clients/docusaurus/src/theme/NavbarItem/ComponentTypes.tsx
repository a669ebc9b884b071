import ComponentTypes from '@theme-init/NavbarItem/ComponentTypes';
import HallpassNavbarItem from '@theme/Hallpass/NavbarItem';

/** Adds the navbar item type `custom-hallpass` ("Sign in", or the reader's name with a menu). */
export default {
  ...ComponentTypes,
  'custom-hallpass': HallpassNavbarItem,
};
