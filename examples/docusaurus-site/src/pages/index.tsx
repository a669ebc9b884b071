import type {ReactNode} from 'react';
import Link from '@docusaurus/Link';
import Layout from '@theme/Layout';
import styles from './index.module.css';

const chapters = [
  {to: '/chapters/microcontrollers', title: 'Microcontrollers', text: 'Pins, registers and the first blinking LED.'},
  {to: '/chapters/sensors', title: 'Sensors', text: 'From a voltage to a number you can trust.'},
  {to: '/chapters/control', title: 'Control loops', text: 'Making a motor do what you meant.'},
];

export default function Home(): ReactNode {
  return (
    <Layout description="A short robotics textbook that adapts to what you already know.">
      <header className={styles.hero}>
        <div className="container">
          <h1 className={styles.title}>Robots from the Ground Up</h1>
          <p className={styles.tagline}>
            A short textbook on building robots. Tell it what you already know about software and hardware,
            and every chapter is written for you.
          </p>
          <div className={styles.buttons}>
            <Link className="button button--primary button--lg" to="/chapters/intro">
              Start reading
            </Link>
            <Link className="button button--secondary button--lg" to="/sign-up">
              Create an account
            </Link>
          </div>
        </div>
      </header>
      <main className="container margin-vert--xl">
        <div className="row">
          {chapters.map((chapter) => (
            <div key={chapter.to} className="col col--4 margin-bottom--lg">
              <Link to={chapter.to} className={styles.card}>
                <h2 className={styles.cardTitle}>{chapter.title}</h2>
                <p className={styles.cardText}>{chapter.text}</p>
              </Link>
            </div>
          ))}
        </div>
      </main>
    </Layout>
  );
}
